"""What the user configured: flags, environment, clouds.yaml (with vendor profiles and the
login it implies), jobdash's own config.toml, the checks of those values, and where
jobdash keeps its files."""
