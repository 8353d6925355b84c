//! Where each App Store Connect resource lives. Callers name a resource and give its ids and
//! query pairs; the `/v1/...` paths and the escaping of ids into them stay here, in the client.

pub mod app_store;
pub mod apps;
pub mod beta;
pub mod build_uploads;
pub mod builds;

use url::Url;

use super::{AscClient, AscError};

/// Query pairs in the order they are sent.
pub type Query<'a> = [(&'a str, &'a str)];

/// A path segment, percent-encoded so an id can never change the path.
pub fn seg(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn at(client: &AscClient, path: &str, query: &Query<'_>) -> Result<Url, AscError> {
    client.url(path, query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_cannot_change_the_path() {
        assert_eq!(seg("a/b?c"), "a%2Fb%3Fc");
        assert_eq!(seg("../apps"), "..%2Fapps");
        assert_eq!(seg("1 2#3"), "1+2%233");
    }
}
