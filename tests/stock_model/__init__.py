"""The model-based test of the stock rules: a plain model, and a machine that checks the service
layer against it step by step (tests/integration/test_stock_model.py, `make soak`)."""
