//! Pulled components in wcomp's cache, by digest: `oci/manifests/sha256/<hex>.json`,
//! `oci/blobs/sha256/<hex>` (the component) and `oci/tags/<registry>/<repository>/<tag>`
//! (the digest a tag had when last resolved). Every read is checked against its digest; a
//! damaged or tampered entry is as good as missing and is fetched again.

use std::path::{Path, PathBuf};

use oci_client::Reference;
use oci_client::manifest::OciDescriptor;

use super::artifact::{component_layer, sha256_digest};

pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(cache_dir: &Path) -> Self {
        Self {
            root: cache_dir.join("oci"),
        }
    }

    fn digest_path(&self, kind: &str, digest: &str, suffix: &str) -> Option<PathBuf> {
        let (algorithm, hex) = digest.split_once(':')?;
        let safe = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
        (safe(algorithm) && safe(hex)).then(|| {
            self.root
                .join(kind)
                .join(algorithm)
                .join(format!("{hex}{suffix}"))
        })
    }

    fn tag_path(&self, reference: &Reference) -> Option<PathBuf> {
        let tag = reference.tag()?;
        let registry = reference.resolve_registry().replace(':', "_");
        Some(
            self.root
                .join("tags")
                .join(registry)
                .join(reference.repository())
                .join(tag),
        )
    }

    /// The digest `reference`'s tag had when last resolved.
    pub fn tag(&self, reference: &Reference) -> Option<String> {
        let text = std::fs::read_to_string(self.tag_path(reference)?).ok()?;
        let digest = text.trim();
        digest.starts_with("sha256:").then(|| digest.to_owned())
    }

    pub fn remember_tag(&self, reference: &Reference, digest: &str) -> anyhow::Result<()> {
        match self.tag_path(reference) {
            Some(path) => crate::fsutil::write(&path, format!("{digest}\n").as_bytes()),
            None => Ok(()),
        }
    }

    /// The cached component of the manifest `digest`, if its manifest and bytes are whole.
    /// Also the manifest, as read and checked on the way.
    pub fn component(&self, digest: &str) -> anyhow::Result<Option<(PathBuf, Vec<u8>)>> {
        let Some(manifest_path) = self.digest_path("manifests", digest, ".json") else {
            return Ok(None);
        };
        let Ok(manifest) = std::fs::read(&manifest_path) else {
            return Ok(None);
        };
        if sha256_digest(&manifest) != digest {
            return Ok(None);
        }
        let Ok(layer) = component_layer(&manifest, digest) else {
            return Ok(None);
        };
        let Some(blob) = self.digest_path("blobs", &layer.digest, "") else {
            return Ok(None);
        };
        match std::fs::read(&blob) {
            Ok(bytes) if sha256_digest(&bytes) == layer.digest => Ok(Some((blob, manifest))),
            _ => Ok(None),
        }
    }

    /// Where blobs are downloaded to, beside the files they become.
    pub fn blob_dir(&self) -> PathBuf {
        self.root.join("blobs").join("sha256")
    }

    /// Stores a verified manifest and its component (`blob`, downloaded into
    /// [`Cache::blob_dir`] and checked against `layer`); returns the component's path. The
    /// manifest goes last: until it is there, the component is not found by its digest.
    pub fn store(
        &self,
        digest: &str,
        manifest: &[u8],
        layer: &OciDescriptor,
        blob: tempfile::NamedTempFile,
    ) -> anyhow::Result<PathBuf> {
        let path = self
            .digest_path("blobs", &layer.digest, "")
            .ok_or_else(|| anyhow::anyhow!("unusable layer digest `{}`", layer.digest))?;
        crate::fsutil::persist_fresh(blob, &path)?;
        if let Some(manifest_path) = self.digest_path("manifests", digest, ".json") {
            crate::fsutil::write(&manifest_path, manifest)?;
        }
        Ok(path)
    }
}
