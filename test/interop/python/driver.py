"""Differential-test driver for the Python reference libraries (issue 19): mastercard-oauth1-signer and
mastercard-client-encryption, as pinned in requirements.txt. Reads one JSON document on stdin,
  {"keys": {"p12", "alias", "password", "certificate", "decryptionKey"},
   "cases": [{"op": "oauth1" | "jwe-encrypt" | "jwe-decrypt" | "fle-encrypt" | "fle-decrypt", ...}]}
and writes one JSON array on stdout, one result per case, in order; a case that raises gets
{"error": "<class>: <message>"}, so one process covers every case."""
import json
import re
import sys

import oauth1.authenticationutils as authenticationutils
from oauth1.oauth import OAuth
from client_encryption import field_level_encryption, jwe_encryption
from client_encryption.field_level_encryption_config import FieldLevelEncryptionConfig
from client_encryption.jwe_encryption_config import JweEncryptionConfig

PARAM = re.compile(r'(\w+)="([^"]*)"')

# The public entry point signs with its own nonce and timestamp (read back from the header); the base string
# it signed is captured on its way into OAuth.sign_message, the library's own signing stage.
_signed = []
_sign_message = OAuth.sign_message


def _capture(message, signing_key, *args, **kwargs):
    _signed.append(message)
    return _sign_message(message, signing_key, *args, **kwargs)


OAuth.sign_message = staticmethod(_capture)


def oauth1_case(case, key):
    _signed.clear()
    header = OAuth.get_authorization_header(case["url"], case["method"], case.get("body"), case["consumerKey"], key)
    params = dict(PARAM.findall(header))
    return {"header": header, "nonce": params.get("oauth_nonce"), "timestamp": params.get("oauth_timestamp"),
            "signatureBaseString": _signed[-1]}


def jwe_config(case, keys):
    return JweEncryptionConfig({
        "paths": {"$": {"toEncrypt": case.get("toEncrypt", {}), "toDecrypt": case.get("toDecrypt", {})}},
        "encryptedValueFieldName": case["encryptedValueFieldName"],
        "encryptionCertificate": keys["certificate"],
        "decryptionKey": keys["decryptionKey"],
    })


def fle_config(case, keys):
    return FieldLevelEncryptionConfig({
        "paths": {"$": {"toEncrypt": case.get("toEncrypt", {}), "toDecrypt": case.get("toDecrypt", {})}},
        "encryptedValueFieldName": case["encryptedValueFieldName"],
        "encryptedKeyFieldName": case["encryptedKeyFieldName"],
        "ivFieldName": case["ivFieldName"],
        "oaepPaddingDigestAlgorithmFieldName": case["oaepHashingAlgorithmFieldName"],
        "encryptionKeyFingerprintFieldName": case["publicKeyFingerprintFieldName"],
        "oaepPaddingDigestAlgorithm": case["oaepPaddingDigestAlgorithm"],
        "dataEncoding": case["dataEncoding"],
        "encryptionCertificate": keys["certificate"],
        "decryptionKey": keys["decryptionKey"],
    })


def main():
    document = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    keys = document["keys"]
    signing_key = authenticationutils.load_signing_key(keys["p12"], keys["password"])
    results = []
    for case in document["cases"]:
        try:
            op = case["op"]
            if op == "oauth1":
                result = oauth1_case(case, signing_key)
            elif op == "jwe-encrypt":
                result = {"payload": json.dumps(jwe_encryption.encrypt_payload(case["payload"], jwe_config(case, keys)))}
            elif op == "jwe-decrypt":
                result = {"payload": json.dumps(jwe_encryption.decrypt_payload(case["payload"], jwe_config(case, keys)))}
            elif op == "fle-encrypt":
                result = {"payload": json.dumps(field_level_encryption.encrypt_payload(case["payload"], fle_config(case, keys)))}
            elif op == "fle-decrypt":
                result = {"payload": json.dumps(field_level_encryption.decrypt_payload(case["payload"], fle_config(case, keys)))}
            else:
                raise ValueError("unknown op " + op)
        except Exception as error:  # noqa: BLE001 - every failure is a result the test classifies
            result = {"error": type(error).__name__ + ": " + str(error)}
        results.append(result)
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":
    main()
