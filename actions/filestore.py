"""One small file store for what several hosts must share: avatars and export files.

A local folder by default; an S3-compatible bucket when FILE_STORE=s3 (S3_BUCKET, and for
a non-AWS server S3_ENDPOINT_URL; credentials the usual boto3 way: AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY or an instance role). Keys are relative paths ("exports/12/x.csv").
Interface: put(key, file_or_bytes), open(key) -> binary file, url(key, filename) -> a
direct download URL or None (then the app streams it), delete(key).
"""
import shutil
from pathlib import Path, PurePosixPath


def _check_key(key):
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or any(p in ("..", ".", "") for p in parts):
        raise ValueError(f"bad file store key {key!r}")
    return key


class LocalStore:
    """Files under one folder (on one host, or on a shared mount)."""

    def __init__(self, root):
        self.root = Path(root)

    def _path(self, key):
        return self.root / _check_key(key)

    def put(self, key, data):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as out:
            if isinstance(data, (bytes, bytearray)):
                out.write(data)
            else:
                shutil.copyfileobj(data, out, 1024 * 1024)
        tmp.replace(path)  # readers never see half a file

    def open(self, key):
        return open(self._path(key), "rb")

    def exists(self, key):
        return self._path(key).is_file()

    def url(self, key, filename=None):
        return None

    def delete(self, key):
        self._path(key).unlink(missing_ok=True)


class S3Store:
    """Files in an S3 bucket (AWS or any S3-compatible server), under `prefix`."""

    def __init__(self, bucket, prefix="", *, endpoint_url=None, region=None, url_seconds=900):
        import boto3
        self.bucket, self.prefix, self.url_seconds = bucket, prefix, url_seconds
        from botocore.config import Config
        # SigV4 for every request and every link (SigV2 is deprecated and refused by newer
        # regions and buckets)
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None,
                                   region_name=region or None,
                                   config=Config(signature_version="s3v4"))

    def _key(self, key):
        return self.prefix + _check_key(key)

    def put(self, key, data):
        if isinstance(data, (bytes, bytearray)):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=bytes(data))
        else:
            self.client.upload_fileobj(data, self.bucket, self._key(key))

    def open(self, key):
        from botocore.exceptions import ClientError
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as exc:
            raise FileNotFoundError(key) from exc

    def exists(self, key):
        from botocore.exceptions import ClientError
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError:
            return False
        return True

    def url(self, key, filename=None):
        """A short-lived signed link (the browser downloads from the bucket directly)."""
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return self.client.generate_presigned_url("get_object", Params=params,
                                                  ExpiresIn=self.url_seconds)

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def store_for(config, area):
    """The store of `area` ("avatars" or "files") from a configuration mapping."""
    if config.get("FILE_STORE") == "s3":
        return S3Store(config["S3_BUCKET"], f"{area}/", endpoint_url=config.get("S3_ENDPOINT_URL"),
                       region=config.get("S3_REGION"))
    if area == "avatars":
        return LocalStore(config["AVATAR_DIR"])
    return LocalStore(config["FILE_STORE_DIR"])
