"""KV cache: the five experiments of `raglab kv`, run on the loaded model and plotted."""

import streamlit as st

from app.kv_charts import memory_chart, modes_chart, per_token_chart, prefix_chart, speedup_chart, theory_chart
from app.kv_lab import QUICK_PLAN, KVPlan, measuring_generator, run_kv_lab
from app.webui import cached_context, choose_knowledge_base, lab_settings
from eval.qa_sets import load_qa_set
from lab.ingestion import BUNDLED_DEMOS
from strategies import available_strategies

st.set_page_config(page_title="RAG Lab · KV cache", layout="wide")
st.title("KV cache")
st.caption(
    "What the key-value cache buys and costs on this model and this machine: generation with and without it, memory "
    "against context (measured beside theory), cache modes (static, quantized, fp8), theory for named models, and how "
    "much of each strategy's prompting a prefix cache could reuse."
)


@st.cache_resource(show_spinner="Loading the model through transformers, which measures its cache…")
def _measuring(settings_json: str, kb_name: str):
    return measuring_generator(cached_context(kb_name))


kb_name = choose_knowledge_base()
quick = st.toggle("Quick run (smallest sizes, about a minute)", value=True, key="kv_quick")
with st.expander("Sizes", expanded=not quick):
    new_tokens = st.multiselect("Cache on/off: tokens to generate", [8, 16, 32, 64, 128, 256, 512], default=[32, 64, 128])
    contexts = st.multiselect("Memory: prompt lengths", [64, 128, 256, 512, 600, 1024, 2048, 4096], default=[128, 512, 1024, 2048])
    mode_questions = st.number_input("Cache modes: questions", 1, 40, 4)
    prefix_strategies = st.multiselect("Prefix reuse: strategies", list(available_strategies()),
                                       default=["traditional", "hyde", "agentic", "self-rag"])
default_questions = ""
if kb_name in BUNDLED_DEMOS:
    default_questions = "\n".join(item.question for item in load_qa_set(BUNDLED_DEMOS[kb_name].questions, limit=40).items)
questions_text = st.text_area("Questions the prompts are built from (one per line)", default_questions, height=100)

if st.button("Run the KV-cache lab", type="primary", disabled=not kb_name):
    questions = [line.strip() for line in questions_text.splitlines() if line.strip()]
    if not questions:
        st.warning("Add at least one question: the cache modes and prefix reuse are measured on real prompts.")
        st.stop()
    plan = QUICK_PLAN if quick else KVPlan(
        new_tokens=tuple(sorted(new_tokens)) or QUICK_PLAN.new_tokens, contexts=tuple(sorted(contexts)) or QUICK_PLAN.contexts,
        mode_questions=int(mode_questions), prefix_strategies=tuple(prefix_strategies),
    )
    ctx = cached_context(kb_name)
    measuring = _measuring(lab_settings().model_dump_json(), kb_name)
    bar = st.progress(0.0, text="starting")
    st.session_state["kv_report"] = run_kv_lab(ctx, measuring, questions, plan, lambda f, m: bar.progress(min(f, 1.0), text=m))
    bar.empty()

report = st.session_state.get("kv_report")
if report is not None:
    st.subheader("What the measurements say")
    for line in report.findings:
        st.markdown("- " + line.replace("*", "\\*"))
    sections = (
        ("1. Cache on vs off", (per_token_chart, speedup_chart), "cache_on_off"),
        ("2. Memory against context length", (memory_chart,), "memory"),
        ("3. Cache modes", (modes_chart,), "modes"),
        ("4. Theory for named models", (theory_chart,), "theory"),
        ("5. Prefix reuse across a strategy's calls", (prefix_chart,), "prefix_reuse"),
    )
    for title, charts, experiment in sections:
        st.subheader(title)
        for chart in charts:
            figure, caption = chart(report)
            st.plotly_chart(figure, width="stretch", key=f"kv-{chart.__name__}")
            st.caption(caption)
        with st.expander("Rows"):
            st.dataframe([row.to_dict() for row in report.experiment(experiment)], width="stretch")
    with st.expander("The seed's '7B model, 1,000 tokens, about 2 GB'"):
        st.json(report.seed_claim)
