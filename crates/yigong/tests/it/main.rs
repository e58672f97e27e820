//! Tests of the whole program: crate boundaries and the command line.

mod architecture;
mod cli;
mod mpi_cli;
mod reading_metrics;
mod referral_metrics;
