"""RAG Lab's engine, in rooms: `core` (records, settings, tracing) at the bottom; `kb`, `graph` and `llm`
above it; `context` and `ingestion` joining them; `agent` and `steps` on top. The app lives in `app/`.

Importing the package makes the process offline and silent before any library that could
phone home is imported: model hubs are not contacted, and no analytics leave the machine.
A user's run is therefore as quiet as the test suite's.
"""

import os

_QUIET_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "RAGAS_DO_NOT_TRACK": "true",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    "TOKENIZERS_PARALLELISM": "false",
}
os.environ.update(_QUIET_ENVIRONMENT)
