// A real BouncyCastle relying party for smki's tests (Debian's libbcprov-java, on the class
// path as /usr/share/java/bcprov.jar). For each (certificate, issuer) pair of DER files given
// as arguments, prints one JSON line:
//   {"cert", "issuer", "outcome": "accept"|"reject", "error": BC's own words,
//    "signature": "accept"|"reject"|null}
// outcome: BC's own X.509 path: CertificateFactory.getInstance("X.509", "BC") parses both,
// then cert.verify(issuer key, "BC"); signature: Signature.getInstance(<the certificate's
// algorithm>, "BC") over getTBSCertificate() with getSignature() alone (null when the
// certificate cannot be parsed).
//
// Usage: java -cp DIR:/usr/share/java/bcprov.jar VerifyBc CERT ISSUER [CERT ISSUER ...]
//        java -cp ... VerifyBc version
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.Security;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

public class VerifyBc {
    private static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t != e) {
                sb.append(" [caused by ");
            }
            sb.append(t.getClass().getName()).append(": ").append(String.valueOf(t.getMessage()));
            if (t != e) {
                sb.append("]");
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return sb.toString();
    }

    private static X509Certificate parse(CertificateFactory cf, String path) throws Exception {
        byte[] der = Files.readAllBytes(Paths.get(path));
        return (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der));
    }

    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        if (args.length == 1 && args[0].equals("version")) {
            System.out.println("BouncyCastle " + Security.getProvider("BC").getVersionStr());
            return;
        }
        if (args.length % 2 != 0) {
            System.err.println("usage: VerifyBc CERT ISSUER [CERT ISSUER ...] | version");
            System.exit(2);
        }
        CertificateFactory cf = CertificateFactory.getInstance("X.509", "BC");
        for (int i = 0; i < args.length; i += 2) {
            String outcome = "reject", error = "", signature = "null";
            try {
                X509Certificate issuer;
                try {
                    issuer = parse(cf, args[i + 1]);
                } catch (Exception e) {
                    throw new Exception("issuer: " + describe(e));
                }
                X509Certificate cert = parse(cf, args[i]);
                try {
                    Signature sig = Signature.getInstance(cert.getSigAlgName(), "BC");
                    sig.initVerify(issuer.getPublicKey());
                    sig.update(cert.getTBSCertificate());
                    signature = sig.verify(cert.getSignature()) ? "\"accept\"" : "\"reject\"";
                } catch (Exception e) {
                    signature = "\"reject\"";
                }
                cert.verify(issuer.getPublicKey(), "BC");
                outcome = "accept";
            } catch (Exception e) {
                error = describe(e);
            }
            System.out.println("{\"cert\":" + json(args[i]) + ",\"issuer\":" + json(args[i + 1])
                + ",\"outcome\":\"" + outcome + "\",\"error\":" + json(error)
                + ",\"signature\":" + signature + "}");
        }
        System.out.flush();
    }
}
