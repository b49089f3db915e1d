//! Property tests of the agreement coefficients.
