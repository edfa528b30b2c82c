//! Prints every SQL statement the Worker runs, as JSON `[[name, sql], …]`: the end-to-end suite
//! checks each one's query plan against a large log.

fn main() {
    let all: Vec<(&str, &str)> = hookseal_worker::STATEMENTS.to_vec();
    println!("{}", serde_json::to_string(&all).unwrap_or_default());
}
