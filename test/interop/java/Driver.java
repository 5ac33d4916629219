// Differential-test driver for the Java reference libraries (issue 19): com.mastercard.developer:oauth1-signer
// and client-encryption, as pinned in pom.xml. Reads one JSON document on stdin,
//   { "keys": { "p12": ..., "alias": ..., "password": ..., "certificate": ..., "decryptionKey": ... },
//     "cases": [ { "op": "oauth1" | "jwe-encrypt" | "jwe-decrypt" | "fle-encrypt" | "fle-decrypt", ... } ] }
// and writes one JSON array on stdout, one result per case, in order: a case that throws gets
// { "error": "<class>: <message>" } so one process covers every case.
// JSON goes through json-smart, which client-encryption's json-path already brings.
import com.mastercard.developer.encryption.JweConfig;
import com.mastercard.developer.encryption.FieldLevelEncryption;
import com.mastercard.developer.encryption.FieldLevelEncryptionConfig;
import com.mastercard.developer.encryption.FieldLevelEncryptionConfigBuilder;
import com.mastercard.developer.encryption.JweConfigBuilder;
import com.mastercard.developer.encryption.JweEncryption;
import com.mastercard.developer.oauth.OAuth;
import com.mastercard.developer.utils.AuthenticationUtils;
import com.mastercard.developer.utils.EncryptionUtils;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.minidev.json.JSONArray;
import net.minidev.json.JSONObject;
import net.minidev.json.JSONValue;

public final class Driver {
  private static final Pattern PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");

  public static void main(String[] args) throws Exception {
    JSONObject input = (JSONObject) JSONValue.parseWithException(new String(readAll(System.in), StandardCharsets.UTF_8));
    JSONObject keys = (JSONObject) input.get("keys");
    PrivateKey signingKey = AuthenticationUtils.loadSigningKey((String) keys.get("p12"), (String) keys.get("alias"), (String) keys.get("password"));
    Certificate certificate = EncryptionUtils.loadEncryptionCertificate((String) keys.get("certificate"));
    PrivateKey decryptionKey = EncryptionUtils.loadDecryptionKey((String) keys.get("decryptionKey"));
    JSONArray out = new JSONArray();
    for (Object item : (JSONArray) input.get("cases")) {
      JSONObject c = (JSONObject) item;
      JSONObject result = new JSONObject();
      try {
        String op = (String) c.get("op");
        switch (op) {
          case "oauth1": oauth1(c, signingKey, result); break;
          case "jwe-encrypt": result.put("payload", JweEncryption.encryptPayload((String) c.get("payload"), jwe(c, certificate, decryptionKey))); break;
          case "jwe-decrypt": result.put("payload", JweEncryption.decryptPayload((String) c.get("payload"), jwe(c, certificate, decryptionKey))); break;
          case "fle-encrypt": result.put("payload", FieldLevelEncryption.encryptPayload((String) c.get("payload"), fle(c, certificate, decryptionKey))); break;
          case "fle-decrypt": result.put("payload", FieldLevelEncryption.decryptPayload((String) c.get("payload"), fle(c, certificate, decryptionKey))); break;
          default: throw new IllegalArgumentException("unknown op " + op);
        }
      } catch (Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        result.put("error", root.getClass().getSimpleName() + ": " + root.getMessage());
      }
      out.add(result);
    }
    System.out.write(out.toJSONString().getBytes(StandardCharsets.UTF_8));
    System.out.flush();
  }

  // The public entry point signs with its own nonce and timestamp; they are read back from the header, and
  // the base string is rebuilt from the library's own (package-private) stages with exactly those values.
  private static void oauth1(JSONObject c, PrivateKey key, JSONObject result) throws Exception {
    URI uri = URI.create((String) c.get("url"));
    String method = (String) c.get("method");
    String body = (String) c.get("body");
    String consumerKey = (String) c.get("consumerKey");
    String header = OAuth.getAuthorizationHeader(uri, method, body, StandardCharsets.UTF_8, consumerKey, key);
    Map<String, String> params = new HashMap<>();
    Matcher m = PARAM.matcher(header);
    while (m.find()) params.put(m.group(1), m.group(2));
    Map<String, String> oauth = new HashMap<>(params);
    oauth.remove("oauth_signature");
    Object query = call("extractQueryParams", new Class<?>[] {URI.class, java.nio.charset.Charset.class}, uri, StandardCharsets.UTF_8);
    String paramString = (String) call("toOauthParamString", new Class<?>[] {SortedMap.class, Map.class}, query, oauth);
    String baseUri = (String) call("getBaseUriString", new Class<?>[] {URI.class}, uri);
    String sbs = (String) call("getSignatureBaseString", new Class<?>[] {String.class, String.class, String.class, java.nio.charset.Charset.class}, method, baseUri, paramString, StandardCharsets.UTF_8);
    result.put("header", header);
    result.put("nonce", params.get("oauth_nonce"));
    result.put("timestamp", params.get("oauth_timestamp"));
    result.put("baseUri", baseUri);
    result.put("signatureBaseString", sbs);
  }

  private static Object call(String name, Class<?>[] types, Object... args) throws Exception {
    Method method = OAuth.class.getDeclaredMethod(name, types);
    method.setAccessible(true);
    return method.invoke(null, args);
  }

  @SuppressWarnings("unchecked")
  private static List<List<String>> paths(JSONObject c, String name) {
    Object value = c.get(name);
    return value == null ? List.of() : (List<List<String>>) value;
  }

  private static JweConfig jwe(JSONObject c, Certificate cert, PrivateKey key) throws Exception {
    JweConfigBuilder b = JweConfigBuilder.aJweEncryptionConfig().withEncryptionCertificate(cert).withDecryptionKey(key);
    for (List<String> p : paths(c, "encryptionPaths")) b.withEncryptionPath(p.get(0), p.get(1));
    for (List<String> p : paths(c, "decryptionPaths")) b.withDecryptionPath(p.get(0), p.get(1));
    b.withEncryptedValueFieldName((String) c.get("encryptedValueFieldName"));
    return b.build();
  }

  private static FieldLevelEncryptionConfig fle(JSONObject c, Certificate cert, PrivateKey key) throws Exception {
    FieldLevelEncryptionConfigBuilder b = FieldLevelEncryptionConfigBuilder.aFieldLevelEncryptionConfig().withEncryptionCertificate(cert).withDecryptionKey(key);
    for (List<String> p : paths(c, "encryptionPaths")) b.withEncryptionPath(p.get(0), p.get(1));
    for (List<String> p : paths(c, "decryptionPaths")) b.withDecryptionPath(p.get(0), p.get(1));
    b.withOaepPaddingDigestAlgorithm((String) c.get("oaepPaddingDigestAlgorithm"))
        .withEncryptedValueFieldName((String) c.get("encryptedValueFieldName"))
        .withEncryptedKeyFieldName((String) c.get("encryptedKeyFieldName"))
        .withIvFieldName((String) c.get("ivFieldName"))
        .withOaepPaddingDigestAlgorithmFieldName((String) c.get("oaepHashingAlgorithmFieldName"))
        .withEncryptionKeyFingerprintFieldName((String) c.get("publicKeyFingerprintFieldName"))
        .withFieldValueEncoding("hex".equals(c.get("dataEncoding")) ? FieldLevelEncryptionConfig.FieldValueEncoding.HEX : FieldLevelEncryptionConfig.FieldValueEncoding.BASE64);
    return b.build();
  }

  private static byte[] readAll(InputStream in) throws Exception {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    byte[] chunk = new byte[65536];
    for (int n; (n = in.read(chunk)) > 0; ) buffer.write(chunk, 0, n);
    return buffer.toByteArray();
  }
}
