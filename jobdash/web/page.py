"""The pages `jobdash serve` answers with: the tab's page (textual-serve's terminal script,
xterm's style and a monospace font, all from this server) and the page that refuses a tab
over the limit.

Everything the page loads comes from the server itself: a browser in a war room may have
no way out to the internet, and a page that waits for an outside font host stalls there.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

#: The font the terminal script asks for first, served from textual-serve's own files.
FONT_FAMILY = "Roboto Mono"
FONT_FILE = "fonts/RobotoMono-VariableFont_wght.ttf"

#: Font sizes the page accepts in `?fontsize=`, in CSS pixels.
MIN_FONT_SIZE = 6
MAX_FONT_SIZE = 72
DEFAULT_FONT_SIZE = 16

_STYLE = """
      @font-face {
        font-family: "%(family)s";
        src: url("%(font_url)s") format("truetype");
        font-weight: 100 700;
        font-display: block;
      }
      html, body { margin: 0; height: 100%%; }
      body {
        background: #0c181f;
        color: #e8eef2;
        font-family: "%(family)s", ui-monospace, monospace;
      }
      .textual-terminal { width: 100vw; height: 100vh; opacity: 0; }
      body.-first-byte .textual-terminal { opacity: 1; transition: opacity 0.2s ease-out; }
      .notice {
        position: absolute; inset: 0; display: flex; align-items: center;
        justify-content: center; text-align: center; z-index: 10;
      }
      .notice p { max-width: 40em; line-height: 1.5; }
      .notice a, .notice button {
        color: inherit; background: #26404f; border: none; padding: 0.6em 1.4em;
        font: inherit; cursor: pointer; text-decoration: none;
      }
      .ended { background: rgba(12, 24, 31, 0.85); }
      body.-first-byte .starting, body:not(.-closed) .ended, #start { display: none; }
      body.-closed .starting { display: none; }
"""


class FontSizeError(ValueError):
    """`?fontsize=` is not a whole number of pixels in range."""


def font_size(given: str | None) -> int:
    """The page's font size from `?fontsize=`: ASCII digits within range, else FontSizeError
    (`str.isdigit` also accepts digits such as "²" that `int` refuses)."""
    if given is None:
        return DEFAULT_FONT_SIZE
    if not (given.isascii() and given.isdigit() and len(given) <= 3):
        raise FontSizeError(given)
    size = int(given)
    if not MIN_FONT_SIZE <= size <= MAX_FONT_SIZE:
        raise FontSizeError(given)
    return size


FONT_SIZE_TEXT = (
    f"400: fontsize must be a whole number of pixels from {MIN_FONT_SIZE} to "
    f"{MAX_FONT_SIZE} (for example /?fontsize=14).\n"
)


@dataclass(frozen=True, slots=True)
class TabPage:
    """What the tab's page needs: its title, the websocket's URL, the static files' URL
    (ending in `/`) and the font size."""

    title: str
    websocket_url: str
    static_url: str
    font_size: int

    def html(self) -> str:
        static = escape(self.static_url)
        style = _STYLE % {"family": FONT_FAMILY, "font_url": static + FONT_FILE}
        title = escape(self.title)
        return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>{title}</title>
    <link rel="preload" href="{static}{FONT_FILE}" as="font" type="font/ttf" crossorigin>
    <link rel="stylesheet" href="{static}css/xterm.css">
    <style>{style}    </style>
    <script src="{static}js/textual.js"></script>
  </head>
  <body>
    <div class="notice starting"><p>{title}: starting the dashboard…</p></div>
    <div class="notice ended">
      <p>This tab's dashboard has ended.<br><br>
      <button type="button" onclick="location.reload()">Start a new one</button></p>
    </div>
    <button type="button" id="start" onclick="location.reload()">Start</button>
    <div id="terminal" class="textual-terminal"
      data-session-websocket-url="{escape(self.websocket_url)}"
      data-font-size="{self.font_size}"></div>
  </body>
</html>
"""


def tabs_full_html(title: str, max_tabs: int) -> str:
    """The page for a tab over the limit: why, and what to do about it."""
    noun = "tab" if max_tabs == 1 else "tabs"
    return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>{escape(title)}: all tabs in use</title>
    <style>
      body {{ background: #0c181f; color: #e8eef2; font-family: ui-monospace, monospace;
        display: flex; justify-content: center; padding-top: 15vh; }}
      main {{ max-width: 44em; line-height: 1.5; }}
      a {{ color: inherit; }}
    </style>
  </head>
  <body>
    <main>
      <h1>All {max_tabs} {noun} in use</h1>
      <p>This jobdash serve runs at most {max_tabs} {noun} at once: each tab is a dashboard
      process of its own, and all of them are taken.</p>
      <p>Close a tab that shows the dashboard and <a href="/">try again</a> (a tab
      just reloaded may need a second for its old dashboard to end).</p>
      <p>To allow more, start the server again with a higher limit, for example
      <code>jobdash serve --max-tabs {max_tabs * 2}</code>.</p>
    </main>
  </body>
</html>
"""


def tabs_full_text(max_tabs: int) -> str:
    """The same refusal for a websocket opened without the page (a script, a stale tab)."""
    return (
        f"503: all {max_tabs} tabs of this jobdash serve are in use (each is a dashboard "
        "process); close one, or restart it with a higher --max-tabs.\n"
    )
