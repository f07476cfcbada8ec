"""`jobdash completion bash|zsh|fish`: a completion script for the shell, made from the
command line's own parser, so it offers exactly the commands and options there are."""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass

from jobdash.cli.common import EXIT_OK

SHELLS = ("bash", "zsh", "fish")

#: Options whose value is a file: the shell offers file names after them.
FILE_OPTIONS = ("--ca-file",)


@dataclass(frozen=True)
class Option:
    name: str
    help: str
    #: Whether a value follows it (`--label TEXT`), and the values it can take, if listed.
    takes_value: bool
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Option, ...]


def add_completion_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete for")
    parser.epilog = (
        "bash: `source <(jobdash completion bash)` in ~/.bashrc;"
        " zsh: `source <(jobdash completion zsh)` in ~/.zshrc;"
        " fish: `jobdash completion fish > ~/.config/fish/completions/jobdash.fish`"
    )


def _options(parser: argparse.ArgumentParser) -> tuple[Option, ...]:
    found: list[Option] = []
    for action in parser._actions:
        names = [name for name in action.option_strings if name.startswith("--")]
        if not names or isinstance(action, argparse._HelpAction):
            continue
        choices = tuple(str(choice) for choice in action.choices or ())
        if action.dest == "service":
            from jobdash.services.registry import services

            choices = tuple(services())
        found.append(
            Option(
                names[0],
                _one_line(action.help or ""),
                takes_value=action.nargs != 0,
                choices=choices,
            )
        )
    return tuple(found)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def commands_of(parser: argparse.ArgumentParser) -> tuple[tuple[Option, ...], list[Command]]:
    """The main parser's own options, and each command with its options (the whole
    command line: `build_parser()` without `only`)."""
    commands: list[Command] = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: _one_line(choice.help or "") for choice in action._choices_actions}
        for name, sub in action.choices.items():
            commands.append(Command(name, helps.get(name, ""), _options(sub)))
    return _options(parser), commands


def bash_script(top: tuple[Option, ...], commands: list[Command]) -> str:
    names = " ".join(command.name for command in commands)
    valued = sorted(
        {o.name for o in top if o.takes_value}
        | {o.name for c in commands for o in c.options if o.takes_value}
    )
    choice_cases = {
        option.name: " ".join(option.choices)
        for option in [*top, *(o for c in commands for o in c.options)]
        if option.choices
    }
    lines = [
        "# jobdash completion for bash: source <(jobdash completion bash)",
        "_jobdash() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        f"    local commands={shlex.quote(names)} command='' i",
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        case " $commands " in *" ${COMP_WORDS[i]} "*)',
        '            command="${COMP_WORDS[i]}"; break ;;',
        "        esac",
        "    done",
        '    case "$prev" in',
    ]
    for option, choices in sorted(choice_cases.items()):
        lines.append(
            f'        {option}) COMPREPLY=($(compgen -W {shlex.quote(choices)} -- "$cur")); return ;;'
        )
    for option in FILE_OPTIONS:
        lines.append(f'        {option}) COMPREPLY=($(compgen -f -- "$cur")); return ;;')
    others = [name for name in valued if name not in choice_cases and name not in FILE_OPTIONS]
    if others:
        lines.append(f"        {'|'.join(others)}) return ;;  # a value of the user's own")
    lines += ["    esac", "    local words", '    case "$command" in']
    for command in commands:
        words = " ".join(option.name for option in command.options)
        if command.name == "completion":
            words = " ".join(SHELLS)
        lines.append(f"        {command.name}) words={shlex.quote(words + ' --help')} ;;")
    top_words = " ".join([names, *(o.name for o in top), "--help", "-V"])
    lines += [
        f"        *) words={shlex.quote(top_words)} ;;",
        "    esac",
        '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        "}",
        "complete -F _jobdash jobdash",
        "",
    ]
    return "\n".join(lines)


def zsh_script(top: tuple[Option, ...], commands: list[Command]) -> str:
    # zsh runs bash's completion functions through its own bashcompinit layer.
    return "\n".join(
        [
            "# jobdash completion for zsh: source <(jobdash completion zsh)",
            "autoload -U +X compinit && { (( $+functions[compdef] )) || compinit; }",
            "autoload -U +X bashcompinit && bashcompinit",
            bash_script(top, commands),
        ]
    )


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish_script(top: tuple[Option, ...], commands: list[Command]) -> str:
    names = " ".join(command.name for command in commands)
    lines = [
        "# jobdash completion for fish:",
        "# jobdash completion fish > ~/.config/fish/completions/jobdash.fish",
        "complete -c jobdash -f",
    ]
    for command in commands:
        lines.append(
            f"complete -c jobdash -n '__fish_use_subcommand' -a {command.name}"
            f" -d {_fish_quote(command.help[:80])}"
        )
    lines.append("complete -c jobdash -n '__fish_use_subcommand' -s V -l version -d 'the version'")

    def option_line(condition: str, option: Option) -> str:
        line = f"complete -c jobdash -n {_fish_quote(condition)} -l {option.name[2:]}"
        if option.choices:
            line += f" -x -a {_fish_quote(' '.join(option.choices))}"
        elif option.name in FILE_OPTIONS:
            line += " -r -F"
        elif option.takes_value:
            line += " -x"
        return line + f" -d {_fish_quote(option.help[:80])}"

    for option in top:
        if option.name != "--version":
            lines.append(option_line("__fish_use_subcommand", option))
    for command in commands:
        condition = f"__fish_seen_subcommand_from {command.name}"
        if command.name == "completion":
            lines.append(
                f"complete -c jobdash -n {_fish_quote(condition)} -a {_fish_quote(' '.join(SHELLS))}"
            )
        for option in command.options:
            lines.append(option_line(condition, option))
    lines.append(f"# commands: {names}")
    lines.append("")
    return "\n".join(lines)


def run_completion(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Print the script for `args.shell`; `parser` is the whole command line."""
    top, commands = commands_of(parser)
    writer = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[args.shell]
    print(writer(top, commands), end="")
    return EXIT_OK
