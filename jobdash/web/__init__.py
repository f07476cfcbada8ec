"""`jobdash serve`: the dashboard in a browser, one dashboard process per tab.

`session` (what each tab's dashboard is told) has no dependencies beyond the core;
`server` needs the optional `web` extra (textual-serve, aiohttp) and is imported only
when serving.
"""
