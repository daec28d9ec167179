"""The 12345 hotline desk (接诉即办): calls and messages, answers, callbacks and the three rates."""
