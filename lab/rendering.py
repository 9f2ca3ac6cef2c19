"""Plain-text rendering of answers for the terminal."""

from lab.contracts import Answer


def render_answer(answer: Answer, max_context_chars: int = 160) -> str:
    if answer.error:
        return f"[{answer.strategy}] error: {answer.error}"
    lines = [f"[{answer.strategy}] {answer.text or '(empty answer)'}", "", "contexts:"]
    for p in answer.passages:
        snippet = " ".join(p.text.split())[:max_context_chars]
        lines.append(f"  {p.score:6.3f}  {p.doc_title} #{p.chunk_id}: {snippet}")
    lines += ["", "stages:"]
    lines += [f"  {s.name:<12} {s.ms:9.1f} ms" for s in answer.trace.stages]
    for call in answer.trace.llm_calls:
        lines.append(
            f"  llm[{call.stage}] prompt={call.prompt_tokens} new={call.new_tokens} "
            f"kv={call.kv_bytes} B (theory {call.kv_bytes_theory} B)"
        )
    return "\n".join(lines)
