package dev.tcpscope.internal.transport;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Sends a file over a {@link StreamSocket} that cannot hand it to the kernel (the portable
 * transport; TLS, whose records must be sealed in Java): read in 64 KiB chunks from a
 * {@link FileChannel}, each written through the socket's one write path (its write lock, its
 * remembered errors, its write deadline, its byte counter). The file channel is opened and closed
 * here (try-with-resources), on every path.
 *
 * <p>Why not {@link FileChannel#transferTo} into the socket channel, which the JDK does with
 * sendfile(2): tried first, and on JDK 25 a virtual thread in it never parks. With the peer not
 * reading, the thread stayed RUNNABLE inside {@code FileDispatcherImpl.transferTo0} (native) for
 * the whole 10 s a test waited (FileSendTest's reset case), holding its carrier; a blocked
 * transfer could then be ended only by closing the channel. The copy through a heap buffer parks
 * in the JDK's poller like every other portable write; the zero-copy path is the native
 * transport's.
 */
public final class FileCopy {

    /** Read and written per step. */
    private static final int CHUNK = 64 * 1024;

    private FileCopy() {}

    /** Sends {@code count} bytes of {@code file} from {@code position} ({@code count < 0}: to its end); see {@link StreamSocket#sendFile}. */
    public static long send(StreamSocket socket, Path file, long position, long count, long deadline) throws IOException {
        try (FileChannel source = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
            long sent = 0;
            while (count < 0 || sent < count) {
                buffer.clear();
                if (count >= 0 && count - sent < CHUNK) {
                    buffer.limit((int) (count - sent));
                }
                int n = source.read(buffer, position + sent);
                if (n < 0) {
                    if (count < 0) {
                        break;
                    }
                    throw new EOFException("sendFile " + file + ": the file ended at byte " + (position + sent)
                            + ", " + (count - sent) + " bytes short of the " + count + " asked for");
                }
                buffer.flip();
                socket.write(MemorySegment.ofBuffer(buffer), deadline);
                sent += n;
            }
            return sent;
        }
    }
}
