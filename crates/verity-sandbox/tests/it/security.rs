//! Security: each attack is contained, reported with the right verdict, and the host untouched.
