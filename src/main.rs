use std::process::ExitCode;

// jemalloc, as Ruff ships it: reading Python allocates and frees every node of Ruff's syntax
// tree, and glibc's malloc and free were about 15% of a corpus run's cycles. With jemalloc that
// run takes 8% less wall time, for 7-15% more peak memory (see the README's performance
// section). Elsewhere (Windows, OpenBSD, AIX, other architectures) the system allocator stays,
// as in Ruff: jemalloc does not build or does not pay there.
#[cfg(all(
    not(target_os = "windows"),
    not(target_os = "openbsd"),
    not(target_os = "aix"),
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "powerpc64",
        target_arch = "riscv64"
    )
))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    promptlint::cli::run()
}
