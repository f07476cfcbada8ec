"""jobdash: watch the asynchronous jobs of Open Telekom Cloud and Huawei Cloud."""

__version__ = "0.1.0"
