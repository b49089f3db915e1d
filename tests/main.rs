//! Integration tests: one crate, one module per area.
mod agreement_properties;
mod agreement_reference;
