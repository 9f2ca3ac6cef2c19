"""The `transformers` backend: completion and likelihood scoring on any Hugging Face causal LM, in process.

It is the backend that measures: its KV-cache bytes are read off the live cache objects, beside the
figure the config predicts, in whichever cache mode `kv_mode` names (`lab.llm.kv_modes`). It runs any local HF model folder and, de-quantized once, a GGUF.

The embedded default is a small *base* model, so strategies never ask it to follow instructions
or emit JSON. They write a prompt that the answer completes, stop at a stop string, and make
decisions by comparing the likelihood of a few candidate continuations (`score`). Decoding is
greedy, so the same question gives the same answer and runs are comparable.

torch is imported by the methods that run the model, by then loaded with it (`lab.llm.loading`), so
importing the room, as every web page does, costs no torch.
"""

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lab.core.tracing import Generation, Scores
from lab.llm.backend import Capabilities, named_as_base_model
from lab.llm.kv_cache import measured_kv_bytes, theoretical_kv_bytes
from lab.llm.kv_modes import DYNAMIC, new_cache

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


class TransformersGenerator:
    """A transformers causal LM with its tokenizer, on one device."""

    backend = "transformers"

    def __init__(
        self,
        model: "PreTrainedModel",
        tokenizer: "PreTrainedTokenizerBase",
        model_id: str,
        max_new_tokens: int,
        kv_mode: str = DYNAMIC,
    ):
        self.model = model.eval()
        self.kv_mode = kv_mode
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.max_new_tokens = max_new_tokens
        self.capabilities = Capabilities(
            can_score=True, chat_only=False, measures_kv=True, base_model=named_as_base_model(model_id)
        )
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def with_kv_mode(self, kv_mode: str) -> "TransformersGenerator":
        """The same loaded model and tokenizer, keeping its cache in `kv_mode`."""
        return TransformersGenerator(self.model, self.tokenizer, self.model_id, self.max_new_tokens, kv_mode)

    @property
    def device(self) -> str:
        return str(self.model.device)

    def describe(self) -> dict:
        return {
            "backend": self.backend, "model": self.model_id, "url": None, "device": self.device,
            "dtype": str(self.model.dtype).removeprefix("torch."), "kv_mode": self.kv_mode,
            "capabilities": self.capabilities.to_dict(),
        }

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False).input_ids)

    def generate(self, prompt: str, stop: Sequence[str] = ("\n",), max_new_tokens: int | None = None) -> Generation:
        """Greedy completion of `prompt`, cut before the first stop string."""
        import torch

        with torch.inference_mode():
            started = time.perf_counter()
            inputs = self.tokenizer(prompt, return_tensors="pt").to(self.device)
            prompt_tokens = inputs.input_ids.shape[1]
            budget = max_new_tokens or self.max_new_tokens
            output = self.model.generate(
                **inputs,
                max_new_tokens=budget,
                past_key_values=new_cache(self.kv_mode, self.model.config, prompt_tokens + budget),
                do_sample=False,
                stop_strings=list(stop) or None,
                tokenizer=self.tokenizer,
                return_dict_in_generate=True,
                pad_token_id=self.tokenizer.pad_token_id,
            )
            new_ids = output.sequences[0, prompt_tokens:]
            text = self.tokenizer.decode(new_ids, skip_special_tokens=True)
            for marker in stop:
                text = text.split(marker, 1)[0]
            new_tokens = int(new_ids.shape[0])
            cached_tokens = prompt_tokens + new_tokens - 1
            return Generation(
                text=text.strip(),
                prompt_tokens=prompt_tokens,
                new_tokens=new_tokens,
                kv_bytes=measured_kv_bytes(output.past_key_values),
                kv_bytes_theory=theoretical_kv_bytes(
                    self.model.config, cached_tokens, self.model.dtype.itemsize, self.kv_mode,
                    decode_steps=new_tokens - 1, max_cache_len=prompt_tokens + budget,
                ),
                ms=(time.perf_counter() - started) * 1000,
            )

    def score(self, prompt: str, continuations: Sequence[str]) -> Scores:
        """Log-likelihood of each continuation given the prompt, summed over its tokens.

        This is how a base model makes a decision: the caller offers the candidates
        (" yes" / " no", or a list of actions) and takes the likeliest. Logits are computed only
        where a continuation token is predicted: with a 262k-token vocabulary the output layer over
        the whole prompt would cost more than the model body. Single-token candidates, the common
        case, are all read off one pass over the prompt.
        """
        started = time.perf_counter()
        prompt_ids = self.tokenizer(prompt).input_ids
        values = self._log_likelihoods(prompt_ids, continuations)
        return Scores(values, "likelihood", len(prompt_ids), (time.perf_counter() - started) * 1000)

    def _log_likelihoods(self, prompt_ids: list[int], continuations: Sequence[str]) -> list[float]:
        import torch

        with torch.inference_mode():
            continuation_ids = [self.tokenizer(c, add_special_tokens=False).input_ids for c in continuations]
            if all(len(ids) == 1 for ids in continuation_ids):
                prompt_tensor = torch.tensor([prompt_ids], device=self.device)
                logits = self.model(input_ids=prompt_tensor, logits_to_keep=1).logits[0, -1].float()
                log_probs = torch.log_softmax(logits, dim=-1)
                return [float(log_probs[ids[0]]) for ids in continuation_ids]
            rows = [prompt_ids + ids for ids in continuation_ids]
            width = max(len(row) for row in rows)
            pad = self.tokenizer.pad_token_id
            input_ids = torch.tensor([row + [pad] * (width - len(row)) for row in rows], device=self.device)
            attention = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows], device=self.device)
            first = len(prompt_ids) - 1
            logits = self.model(input_ids=input_ids, attention_mask=attention, logits_to_keep=width - first).logits.float()
            log_probs = torch.log_softmax(logits[:, :-1], dim=-1)
            token_scores = log_probs.gather(-1, input_ids[:, first + 1 :].unsqueeze(-1)).squeeze(-1)
            return [float(token_scores[i, : len(row) - 1 - first].sum()) for i, row in enumerate(rows)]
