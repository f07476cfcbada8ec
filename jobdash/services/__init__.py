"""One adapter per cloud service whose writes answer with a job id: its job URL, how its
answer maps to jobdash's job model, how a create answer names its jobs, and its list of
recent jobs where it has one (`base.JobService`). Each module here defines `SERVICE`;
`registry` finds them, so adding a service is adding a module."""
