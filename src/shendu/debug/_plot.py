"""matplotlib with the non-interactive Agg backend (files only), imported on first use."""


def pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt
