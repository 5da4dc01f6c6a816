//! Layer contents several test modules build their images from, written once: a node app's
//! `package.json` and what `npm install` puts beside it (a dependency and a dev dependency).

use layersift_fixture::LayerBuilder;

/// `app/package.json` of a node app: `left-pad` as a dependency, `jest` as a dev dependency.
pub(crate) fn npm_package_json(l: LayerBuilder) -> LayerBuilder {
    l.file(
        "app/package.json",
        r#"{"name":"app","dependencies":{"left-pad":"1"},"devDependencies":{"jest":"29"}}"#,
    )
}

/// What `npm install` writes for [`npm_package_json`]: `left-pad` 1.3.0 (500 bytes of code)
/// and the dev dependency `jest` 29.7.0 (7,000 bytes) under `app/node_modules`.
pub(crate) fn npm_install(l: LayerBuilder) -> LayerBuilder {
    let m = "app/node_modules";
    l.file(
        format!("{m}/left-pad/package.json"),
        r#"{"name":"left-pad","version":"1.3.0"}"#,
    )
    .file(format!("{m}/left-pad/index.js"), vec![b'x'; 500])
    .file(
        format!("{m}/jest/package.json"),
        r#"{"name":"jest","version":"29.7.0"}"#,
    )
    .file(format!("{m}/jest/build/jest.js"), vec![b'y'; 7000])
}
