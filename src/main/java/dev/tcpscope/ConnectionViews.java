package dev.tcpscope;

/**
 * The stream views of one {@link TcpConnection}: the same view is handed out until it is closed,
 * then a new one. Closing a view closes only the view.
 */
final class ConnectionViews {

    private final TcpConnection connection;
    private ConnectionInputStream input;   // guarded by this
    private ConnectionOutputStream output; // guarded by this

    ConnectionViews(TcpConnection connection) {
        this.connection = connection;
    }

    synchronized ConnectionInputStream input() {
        if (input == null || input.isClosed()) {
            input = new ConnectionInputStream(connection);
        }
        return input;
    }

    synchronized ConnectionOutputStream output() {
        if (output == null || output.isClosed()) {
            output = new ConnectionOutputStream(connection);
        }
        return output;
    }
}
