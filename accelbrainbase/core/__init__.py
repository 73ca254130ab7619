"""Backend-neutral core: interfaces, the learning loop, callbacks, registry, errors, devices."""
