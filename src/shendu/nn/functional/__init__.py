"""``shendu.nn.functional`` (imported as ``F``): stateless layer functions, activations and losses.

Each family lives in its own module here and is re-exported below."""
