"""A real HTTP server on loopback that behaves like IAM and the ECS job API."""

from jobdash.simulator.config import SimCredentials, SimulatorConfig
from jobdash.simulator.server import Simulator, serve

__all__ = ["SimCredentials", "Simulator", "SimulatorConfig", "serve"]
