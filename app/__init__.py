"""The lab's faces: the `raglab` CLI, the runner the pages share, charts, rendering and the Gradio arena.

They sit above `eval/` and `strategies/` and may import both; nothing below imports them. Importing
`lab` first keeps every face offline and telemetry-free before a UI or model library loads.
"""

import lab  # noqa: F401
