//! Prints [`user_crate::observations`], one `name = result` line each, for
//! `scripts/check-compat.sh` to compare between builds with and without our crates.

fn main() {
    for (name, result) in user_crate::observations() {
        println!("{name} = {result}");
    }
}
