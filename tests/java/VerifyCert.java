// A minimal Java relying party for the smki integration tests (tests/relying_parties.rs).
//
// Usage: java -cp DIR VerifyCert CA.pem LEAF.pem...
// Parses the CA certificate and each leaf with CertificateFactory("X.509") and calls
// leaf.verify(ca.getPublicKey()). Prints one line per leaf, in order:
//   LEAF<TAB>ACCEPT
//   LEAF<TAB>REJECT<TAB>exception class: message [caused by ...]
// One JVM for all files (a JVM is slow to start).
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.PublicKey;
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

    public static void main(String[] args) throws Exception {
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
