"""The command palette provider: every dashboard command, found by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider

from jobdash.tui.keys import COMMANDS, Command


class DashboardCommands(Provider):
    """Lists `jobdash.tui.keys.COMMANDS`; choosing one runs the app action."""

    def _runner(self, command: Command) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            # Actions belong to the screen the palette was opened over.
            await self.app.run_action(command.action, self.screen)

        return run

    async def discover(self) -> Hits:
        for command in COMMANDS:
            yield DiscoveryHit(
                f"{command.title} ({command.shown_key})",
                self._runner(command),
                help=command.help,
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in COMMANDS:
            title = f"{command.title} ({command.shown_key})"
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    self._runner(command),
                    text=title,
                    help=command.help,
                )
