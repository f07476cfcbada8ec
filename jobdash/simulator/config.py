"""Settings and fixed credentials of a simulator instance."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

NotFoundStyle = Literal["404", "400"]
FlowAnswer = Literal["429", "202"]


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0 picks a free port
    speed: float = 1.0  # simulated seconds per real second
    fail_rate: float = 0.1  # share of sub-jobs that fail when no exact count is given
    seed: int = 0
    latency_ms: float = 0.0  # added to every API response
    token_ttl: float = 86400.0  # IAM token lifetime, simulated seconds
    purge_after: float = 86400.0  # finished jobs vanish this long after they end
    manual_clock: bool = False  # True: simulated time moves only via advance()
    start_time: datetime | None = None  # UTC start of the simulated clock; None = now
    not_found_style: NotFoundStyle = "404"  # "400" answers unknown jobs with 400 Common.0011
    region: str = "eu-de"
    #: More projects of the main account, by name (its user may scope a token to each).
    extra_projects: tuple[str, ...] = ()
    #: More accounts, each with its own user, key pair, static token and project.
    extra_accounts: int = 0
    #: Job GETs per second the simulated gateway lets through for each account (a token
    #: bucket per account); None: no limit.
    rate_limit: float | None = None
    #: How requests above the limit are answered: 429 Common.1503 or 202 Common.0024.
    rate_limit_answer: FlowAnswer = "429"

    def __post_init__(self) -> None:
        if self.speed < 0:
            raise ValueError("speed must not be negative")
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if self.token_ttl <= 0:
            raise ValueError("token_ttl must be positive")
        if self.purge_after < 0:
            raise ValueError("purge_after must not be negative")
        if self.not_found_style not in ("404", "400"):
            raise ValueError("not_found_style must be '404' or '400'")
        if self.rate_limit is not None and not self.rate_limit > 0:
            raise ValueError("rate_limit must be positive (or None for no limit)")
        if self.rate_limit_answer not in ("429", "202"):
            raise ValueError("rate_limit_answer must be '429' or '202'")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")
        if self.extra_accounts < 0:
            raise ValueError("extra_accounts must not be negative")


@dataclass(frozen=True, slots=True)
class SimCredentials:
    """What a client needs to talk to the simulator, by any of the three auth methods."""

    username: str
    password: str = field(repr=False)
    user_domain_name: str
    project_name: str
    access_key: str
    secret_key: str = field(repr=False)
    token: str = field(repr=False)  # pre-issued static token, valid for the simulator's lifetime


@dataclass(frozen=True, slots=True)
class SimAccount:
    """One account (IAM domain): a user with a password, a key pair, a static token, and
    the projects the user may act on (name -> id; the first is the user's own)."""

    credentials: SimCredentials
    domain_id: str
    projects: dict[str, str]

    @property
    def project_id(self) -> str:
        return next(iter(self.projects.values()))


def seeded_random(purpose: str, seed: int) -> random.Random:
    # A separate stream per purpose: what one part draws never shifts another's values.
    return random.Random(f"jobdash-simulator:{purpose}:{seed}")


#: The region whose ids come from the plain streams: they stay what they were for a seed.
FIRST_REGION = "eu-de"


def region_purpose(purpose: str, region: str) -> str:
    """The stream `purpose` of `region`: a cloud's regions never share a job or server id,
    so each region draws its own; the first keeps the plain stream."""
    return purpose if region == FIRST_REGION else f"{purpose}@{region}"


def hex_id(rng: random.Random, length: int = 32) -> str:
    return f"{rng.getrandbits(4 * length):0{length}x}"


def make_project_id(seed: int, region: str = "eu-de") -> str:
    """A project has its own id in each region (as a cloud's projects do)."""
    return hex_id(seeded_random("project" if region == "eu-de" else f"project:{region}", seed))


def make_token(rng: random.Random) -> str:
    """Looks like an IAM token: long, starting with `MII`, base64 alphabet."""
    alphabet = string.ascii_letters + string.digits + "-_"
    return "MII" + "".join(rng.choice(alphabet) for _ in range(200))


def make_credentials(seed: int, region: str, account: int = 0) -> SimCredentials:
    """The credentials of account number `account` (0: the main one)."""
    rng = seeded_random("credentials" if account == 0 else f"credentials-{account}", seed)
    upper = string.ascii_uppercase + string.digits
    mixed = string.ascii_letters + string.digits
    return SimCredentials(
        username="demo-operator" if account == 0 else f"operator-{account}",
        password="sim-" + "".join(rng.choice(mixed) for _ in range(16)),
        user_domain_name=f"OTC-EU-DE-00000000001000000{42 + account:03d}",
        project_name=f"{region}_demo" if account == 0 else f"{region}_team{account}",
        access_key="".join(rng.choice(upper) for _ in range(20)),
        secret_key="".join(rng.choice(mixed) for _ in range(40)),
        token=make_token(rng),
    )


def make_accounts(config: SimulatorConfig) -> list[SimAccount]:
    """The main account (with `extra_projects`) and `extra_accounts` more, all seeded."""
    main = make_credentials(config.seed, config.region)
    projects = {main.project_name: make_project_id(config.seed, config.region)}
    for name in config.extra_projects:
        projects[name] = hex_id(seeded_random(f"project:{name}", config.seed))
    accounts = [SimAccount(main, "0" * 31 + "1", projects)]
    for number in range(1, config.extra_accounts + 1):
        credentials = make_credentials(config.seed, config.region, number)
        project_id = hex_id(seeded_random(f"project-of-account:{number}", config.seed))
        accounts.append(
            SimAccount(credentials, f"{number + 1:032d}", {credentials.project_name: project_id})
        )
    return accounts
