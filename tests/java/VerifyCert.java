// A minimal Java relying party for the smki integration tests (tests/relying_parties.rs).
//
// Usage: java -cp DIR VerifyCert CA.pem LEAF.pem...
// Parses the CA certificate and each leaf with CertificateFactory("X.509") and calls
// leaf.verify(ca.getPublicKey()). Prints one line per leaf, in order:
//   LEAF<TAB>ACCEPT
//   LEAF<TAB>REJECT<TAB>exception class: message [caused by ...]
// One JVM for all files (a JVM is slow to start).
//
// Second mode: java -cp DIR VerifyCert --pairs LIST
// LIST has one line per leaf, KIND<TAB>ISSUER<TAB>LEAF, where KIND is `cert` (ISSUER is the
// issuing CA's certificate, PEM or DER: its public key is used) or `spki` (ISSUER is a DER
// X.509 SubjectPublicKeyInfo file of an EC key, e.g. an issuer key recovered from a
// signature). Same output, one line per leaf in the order of LIST.
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;

public class VerifyCert {
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
        return sb.toString().replace('\n', ' ').replace('\t', ' ');
    }

    private static String verifyOne(CertificateFactory cf, PublicKey key, String leafPath) {
        try (InputStream in = Files.newInputStream(Paths.get(leafPath))) {
            X509Certificate leaf = (X509Certificate) cf.generateCertificate(in);
            leaf.verify(key);
            return "ACCEPT";
        } catch (Exception e) {
            return "REJECT\t" + describe(e);
        }
    }

    private static void pairs(String list) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        KeyFactory kf = KeyFactory.getInstance("EC");
        Map<String, PublicKey> keys = new HashMap<>();
        List<String> lines = Files.readAllLines(Paths.get(list));
        for (String line : lines) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", 3);
            if (f.length != 3) {
                throw new IllegalArgumentException("bad line in " + list + ": " + line);
            }
            String id = f[0] + "\t" + f[1];
            PublicKey key = keys.get(id);
            if (key == null) {
                if (f[0].equals("cert")) {
                    try (InputStream in = Files.newInputStream(Paths.get(f[1]))) {
                        key = ((X509Certificate) cf.generateCertificate(in)).getPublicKey();
                    }
                } else if (f[0].equals("spki")) {
                    key = kf.generatePublic(new X509EncodedKeySpec(Files.readAllBytes(Paths.get(f[1]))));
                } else {
                    throw new IllegalArgumentException("unknown issuer kind: " + f[0]);
                }
                keys.put(id, key);
            }
            System.out.println(f[2] + "\t" + verifyOne(cf, key, f[2]));
        }
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--pairs")) {
            pairs(args[1]);
            return;
        }
        if (args.length < 1) {
            System.err.println("usage: VerifyCert CA.pem LEAF.pem...");
            System.exit(2);
        }
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        X509Certificate ca;
        try (InputStream in = Files.newInputStream(Paths.get(args[0]))) {
            ca = (X509Certificate) cf.generateCertificate(in);
        }
        PublicKey key = ca.getPublicKey();
        for (int i = 1; i < args.length; i++) {
            String verdict;
            try (InputStream in = Files.newInputStream(Paths.get(args[i]))) {
                X509Certificate leaf = (X509Certificate) cf.generateCertificate(in);
                leaf.verify(key);
                verdict = "ACCEPT";
            } catch (Exception e) {
                verdict = "REJECT\t" + describe(e);
            }
            System.out.println(args[i] + "\t" + verdict);
        }
        System.out.flush();
    }
}
