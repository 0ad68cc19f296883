//! The Wasm OCI artifact: its media types, the manifests asked for, the one layer that holds the
//! component, and digests.

use super::error::RegistryError;
use crate::diagnostic::Report as _;

/// The manifests asked for: a Wasm artifact's, and those of what people push by mistake
/// (container images), so that the answer can say what they are.
pub const ACCEPTED_MANIFESTS: [&str; 4] = [
    oci_client::manifest::OCI_IMAGE_MEDIA_TYPE,
    oci_client::manifest::OCI_IMAGE_INDEX_MEDIA_TYPE,
    oci_client::manifest::IMAGE_MANIFEST_MEDIA_TYPE,
    oci_client::manifest::IMAGE_MANIFEST_LIST_MEDIA_TYPE,
];

/// The Wasm OCI media types.
pub const CONFIG_MEDIA_TYPE: &str = oci_wasm::WASM_MANIFEST_CONFIG_MEDIA_TYPE;
pub const LAYER_MEDIA_TYPE: &str = oci_wasm::WASM_LAYER_MEDIA_TYPE;

/// The one `application/wasm` layer of a Wasm component's manifest, or what the artifact is
/// instead.
pub fn component_layer(
    raw: &[u8],
    shown: &str,
) -> anyhow::Result<oci_client::manifest::OciDescriptor> {
    let not = |what: String| {
        RegistryError::NotAComponent {
            reference: shown.to_owned(),
            what,
        }
        .report()
    };
    let manifest: oci_client::manifest::OciManifest =
        serde_json::from_slice(raw).map_err(|err| not(format!("not an OCI manifest ({err})")))?;
    let manifest = match manifest {
        oci_client::manifest::OciManifest::Image(image) => image,
        oci_client::manifest::OciManifest::ImageIndex(_) => {
            return Err(not(
                "an image index (a multi-platform container image)".to_owned()
            ));
        }
    };
    let container_config = [
        oci_client::manifest::IMAGE_CONFIG_MEDIA_TYPE,
        "application/vnd.docker.container.image.v1+json",
    ];
    if container_config.contains(&manifest.config.media_type.as_str()) {
        return Err(not("a container image".to_owned()));
    }
    match manifest.layers.as_slice() {
        [layer]
            if manifest.config.media_type == CONFIG_MEDIA_TYPE
                && layer.media_type == LAYER_MEDIA_TYPE =>
        {
            Ok(layer.clone())
        }
        _ => Err(not(format!(
            "an artifact of config type `{}` with {} layer(s)",
            manifest.config.media_type,
            manifest.layers.len()
        ))),
    }
}

/// The version a manifest was published as (its `org.opencontainers.image.version`
/// annotation, which `wcomp publish` sets from the workspace's version), if it says one.
pub fn published_version(raw: &[u8]) -> Option<String> {
    let manifest: oci_client::manifest::OciImageManifest = serde_json::from_slice(raw).ok()?;
    manifest
        .annotations?
        .remove(oci_client::annotations::ORG_OPENCONTAINERS_IMAGE_VERSION)
        .filter(|version| !version.is_empty())
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", crate::digest::sha256_hex(bytes))
}
