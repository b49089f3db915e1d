//! Simulated AI-feedback batches with honest and low-effort roles (placeholder).
