"""The ECS job API as data: parsed jobs (`model`), one GET per call (`client`), typed
errors (`errors`), job ids (`ids`) and the keep-alive HTTP/1.1 transport (`http1`). No UI."""
