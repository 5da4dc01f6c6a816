//! Image references: `ImageRef::parse` never panics, and the registry reference parser
//! accepts only what oci-client's own parser accepts, with the same meaning (it refuses more:
//! non-ASCII tags, which registries refuse too).
#![no_main]

use layersift::parse_reference;
use layersift::ImageRef;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = ImageRef::parse(s) {
        assert!(!r.location.is_empty(), "{s:?} parsed with an empty location");
    }
    let ours = parse_reference(s);
    let theirs = s.parse::<oci_client::Reference>().ok();
    match (&ours, &theirs) {
        (Some(o), Some(t)) => assert_eq!(o, t, "{s:?}"),
        (Some(o), None) => panic!("{s:?} accepted as {o:?}, which oci-client refuses"),
        (None, Some(t)) => assert!(!s.is_ascii(), "{s:?} refused, oci-client reads {t:?}"),
        (None, None) => {}
    }
});
