"""`jobdash serve`: what each browser tab's dashboard is told (`session`), with no
dependencies beyond the core. The server itself (textual-serve, the optional `web` extra)
is `jobdash.tui.web_server`, beside the rest of the UI, and is imported only when serving.
"""
