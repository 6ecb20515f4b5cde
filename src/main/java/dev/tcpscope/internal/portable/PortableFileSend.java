package dev.tcpscope.internal.portable;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Sends a file over a {@link PortableSocket} with {@link FileChannel#transferTo} (which the JDK
 * does with sendfile(2) where it can), each call through the socket's one write path
 * ({@link PortableSocket#sendWith}): the write lock, the sending slot of its
 * {@link ChannelErrorRecord}, the write deadline's watch, the byte counter. The file channel is
 * opened and closed here (try-with-resources), on every path.
 */
final class PortableFileSend {

    /**
     * A failure of the file, not of the connection: carried through the sending slot without
     * being remembered as the connection's error, then thrown as what it wraps.
     */
    static final class FileSideException extends IOException {
        FileSideException(IOException cause) {
            super(cause.getMessage(), cause);
        }

        IOException unwrap() {
            return (IOException) getCause();
        }
    }

    /** Asked for per transferTo call, as the native transport's sendfile. */
    private static final long CHUNK = 1024 * 1024;

    private PortableFileSend() {}

    static long send(PortableSocket socket, SocketChannel channel, Path file, long position, long count, long deadline)
            throws IOException {
        try (FileChannel source = FileChannel.open(file, StandardOpenOption.READ)) {
            long[] sent = {0};
            boolean[] ended = {false};
            socket.sendWith(deadline, "sendFile", new PortableSocket.ChannelSend() {
                @Override
                public long send() throws IOException {
                    long want = count < 0 ? CHUNK : Math.min(CHUNK, count - sent[0]);
                    long n = source.transferTo(position + sent[0], want, channel);
                    if (n == 0 && position + sent[0] >= sizeOf(source)) {
                        if (count >= 0) {
                            throw new FileSideException(new EOFException("sendFile " + file + ": the file ended at byte "
                                    + (position + sent[0]) + ", " + (count - sent[0]) + " bytes short of the "
                                    + count + " asked for"));
                        }
                        ended[0] = true;
                    }
                    sent[0] += n;
                    return n;
                }

                @Override
                public boolean done() {
                    return ended[0] || (count >= 0 && sent[0] == count);
                }
            });
            return sent[0];
        }
    }

    private static long sizeOf(FileChannel source) throws FileSideException {
        try {
            return source.size();
        } catch (IOException e) {
            throw new FileSideException(e);
        }
    }
}
