"""Polling: the poller (`poller`), its pure scheduling decisions (`schedule`), request-rate
control (`ratelimit`), its options from config.toml (`options`) and store writes
(`store_writer`). Pure asyncio, no UI."""
