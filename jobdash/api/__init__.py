"""The ECS job API as data: parsed jobs (`model`), one GET per call (`client`), typed
errors (`errors`), job ids (`ids`) and the pooled HTTP transport (`transport`). No UI."""
