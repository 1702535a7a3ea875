// No-op Java agent. LocalStack starts DynamoDB Local with
// -javaagent:<lib>/dynamodb-local/2/ddb-local-loader-0.1.jar, a jar it would
// otherwise download; any agent jar with an empty premain satisfies it.
// scripts/emulator/localstack.sh install compiles this class and packs it with
// a manifest "Premain-Class: NoopAgent" into that jar.
import java.lang.instrument.Instrumentation;

public final class NoopAgent {
    public static void premain(String args, Instrumentation inst) {
        // Intentionally empty.
    }
}
