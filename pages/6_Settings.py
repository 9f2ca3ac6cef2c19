"""Settings: generator backend, models, device, retrieval, prompt templates and the judge, saved to the settings file."""

import streamlit as st

from app.highlighting import markdown_literal
from app.webui import lab_settings
from eval.judges import JudgeUnavailable, probe_endpoint
from lab.core import (
    DEFAULT_ANSWER_TEMPLATE,
    DEFAULT_CLOSED_BOOK_TEMPLATE,
    EMBEDDED_EMBEDDER,
    EMBEDDED_GENERATOR,
    INDEX_KINDS,
    save_settings,
)
from lab.core import ModelLoadError
from lab.kb import CHUNKER_NAMES
from lab.llm import KV_MODES, GeneratorUnavailable, check_server
from eval.profiles import saved_profiles

st.set_page_config(page_title="RAG Lab · Settings", layout="wide")
st.title("Settings")
settings = lab_settings()

BACKENDS = ["llama-cpp", "transformers", "openai"]
ANSWER_MODES = ["auto", "generate", "select"]

with st.form("settings"):
    st.subheader("Generator")
    backend = st.selectbox(
        "Backend", BACKENDS, index=BACKENDS.index(settings.backend),
        help="llama-cpp: a GGUF in process (fast). transformers: any HF model in process (measures the KV cache). "
        "openai: any OpenAI-compatible server (vLLM, Ollama, llama.cpp server, TGI, hosted).",
    )
    generator = st.text_input(
        "Generator", settings.generator,
        help=f"{EMBEDDED_GENERATOR}, a .gguf file, a local model folder, or the model name the server serves",
    )
    generator_url = st.text_input(
        "Server URL (openai backend)", settings.generator_url or "", placeholder="http://127.0.0.1:8000/v1"
    )
    generator_key_env = st.text_input(
        "Environment variable holding the server's key", settings.generator_key_env,
        help="Only its NAME is saved; the key itself stays in your environment.",
    )
    generator_threads = st.number_input(
        "CPU threads (llama-cpp; 0 = every core)", 0, 1024, settings.generator_threads,
        help="On a CPU shared with other busy work (a second lab, a test suite, an evaluation), one core fewer than "
        "the machine has keeps answers from slowing several times over.",
    )
    st.subheader("Models")
    embedder = st.text_input("Embedder", settings.embedder, help=f"{EMBEDDED_EMBEDDER} or a sentence-transformers folder")
    device = st.selectbox("Device", ["auto", "cpu", "cuda"], index=["auto", "cpu", "cuda"].index(settings.device))
    st.subheader("Retrieval")
    top_k = st.number_input("Passages per answer (top-k)", 1, 100, settings.top_k, key="top_k")
    chunker = st.selectbox("Default chunker", CHUNKER_NAMES, index=CHUNKER_NAMES.index(settings.chunker))
    index_kind = st.selectbox(
        "Dense index", INDEX_KINDS, index=INDEX_KINDS.index(settings.index_kind), key="index_kind",
        help="auto: exact (flat) below 50,000 chunks, HNSW from there. hnsw: a graph, fast with high recall. "
        "ivf: IVF-PQ, compressed for corpora too large for memory, with lower recall. Applies at the next ingest.",
    )
    max_new_tokens = st.number_input("Answer length budget (tokens)", 1, 4096, settings.max_new_tokens)
    st.subheader("Answers")
    answer_mode = st.selectbox(
        "Answer mode", ANSWER_MODES, index=ANSWER_MODES.index(settings.answer_mode), key="answer_mode",
        help="generate: the model writes the answer. select: candidate answers from the passages (names, dates, "
        "numbers, phrases, yes/no) are ranked by the model's likelihood; a small base model reads far better this "
        "way. auto: select with an in-process base model, generate with instruction-tuned models and servers.",
    )
    profiles = ["", *saved_profiles(settings.home)]
    profile = st.selectbox(
        "Tuned profile shown beside the defaults on Compare", profiles,
        index=profiles.index(settings.profile) if settings.profile in profiles else 0, key="profile",
        format_func=lambda name: name or "(none)", help="Profiles are saved by the Tune page and `raglab tune`.",
    )
    kv_mode = st.selectbox(
        "KV-cache mode (transformers backend)", KV_MODES, index=KV_MODES.index(settings.kv_mode), key="kv_mode",
        help="dynamic grows per token; static is preallocated; quantized-int4/int2 keep 4 or 2 bits per element; "
        "fp8 one byte. Compare them on the KV cache page, or in an eval as STRATEGY@MODE.",
    )
    st.subheader("Prompt templates")
    st.caption(
        "Completion-style: the model continues the text and stops at the end of the line, so end the template "
        "where the answer begins. `{passages}` and `{question}` mark where the text goes."
    )
    answer_template = st.text_area("Answer from passages", settings.answer_template, height=180, key="answer_template")
    closed_book_template = st.text_area(
        "Answer without passages", settings.closed_book_template, height=110, key="closed_book_template"
    )
    restore_prompts = st.checkbox("Restore the default prompt templates on save")
    st.subheader("Judge for LLM metrics (OpenAI-compatible endpoint; empty = the embedded generator)")
    judge_url = st.text_input(
        "Endpoint URL", settings.judge_url or "", placeholder="http://localhost:8000/v1", key="judge_url"
    )
    judge_model = st.text_input("Model name", settings.judge_model)
    judge_key_env = st.text_input("Environment variable holding the API key", settings.judge_api_key_env)
    saved = st.form_submit_button("Save", type="primary", key="save")

if saved:
    fields = {
        "backend": backend, "generator": generator, "generator_url": generator_url or None,
        "generator_key_env": generator_key_env, "generator_threads": int(generator_threads), "embedder": embedder, "device": device, "top_k": int(top_k), "chunker": chunker,
        "index_kind": index_kind,
        "max_new_tokens": int(max_new_tokens), "answer_mode": answer_mode, "profile": profile or None, "kv_mode": kv_mode, "judge_url": judge_url or None, "judge_model": judge_model,
        "judge_api_key_env": judge_key_env,
        "answer_template": DEFAULT_ANSWER_TEMPLATE if restore_prompts else answer_template,
        "closed_book_template": DEFAULT_CLOSED_BOOK_TEMPLATE if restore_prompts else closed_book_template,
    }
    try:
        path = save_settings(settings, fields)
    except ValueError as error:
        st.error(f"Not saved: {error}")
    else:
        st.success(f"Saved to {path}. The next question uses these settings.")

if st.button("Test generator connection", disabled=settings.backend != "openai", key="test_generator"):
    try:
        check = check_server(settings)
    except (ModelLoadError, GeneratorUnavailable) as error:
        st.error(markdown_literal(str(error)))
    else:
        st.success(markdown_literal(f"{check.url} answered in {check.round_trip_ms:.0f} ms; model {check.model}."))
        st.write({
            "models served": check.models,
            "completions": "chat only" if check.chat_only else "yes",
            "scoring": check.scoring,
        })
        if not check.can_score:
            st.info(
                "Decisions use a constrained choice among the options (the server's structured output), not "
                "likelihoods; rankings by likelihood (the rerank stage) keep the retriever's order."
            )
st.caption(
    f"The saved backend is **{settings.backend}**; save first to test another. In-process backends need no connection."
)

if st.button("Test connection", disabled=not judge_url, key="test_judge"):
    try:
        probe_endpoint(judge_url)
    except JudgeUnavailable as error:
        st.error(markdown_literal(str(error)))
    else:
        st.success(f"{judge_url} answered.")
