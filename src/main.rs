use std::process::ExitCode;

// jemalloc, as Ruff ships it: reading Python allocates and frees every node of Ruff's syntax
// tree, and glibc's malloc and free were a sixth of a corpus run's cycles. With jemalloc that
// run takes 8% less wall time, for about 15% more peak memory (see the README's performance
// section). Windows (MSVC) and OpenBSD keep the system allocator, where jemalloc does not build.
#[cfg(all(not(target_env = "msvc"), not(target_os = "openbsd")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    promptlint::cli::run()
}
