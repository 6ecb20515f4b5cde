/**
 * TCP connections whose ending tells the truth: FIN only when the program declared success and
 * every byte was delivered, RST on every other path.
 *
 * <h2>How a scope ends its connections</h2>
 *
 * A {@link dev.tcpscope.TcpScope} owns connections and ends them by the outcome of its work.
 *
 * <p><b>Success is explicit.</b> {@link dev.tcpscope.TcpScope#finish()}, called by the owner
 * after {@code join()} returned normally, ends every connection the scope is responsible for
 * gracefully, and throws {@link dev.tcpscope.UndeliveredException} if any of them ended aborted:
 * the scope never aborts a connection silently after the program declared success. The lambda
 * form {@link dev.tcpscope.TcpScope#call} and a {@link dev.tcpscope.TcpServer} handler declare
 * success by returning.
 *
 * <p><b>Everything else aborts.</b> {@code close()} without {@code finish()} aborts every owned
 * connection, whatever happened: an exception before {@code join()} or after it, a timeout, an
 * interrupt. The scope fails at once, aborting every connection (which wakes the subtasks
 * blocked on them), when {@code join()} does not return normally or
 * {@link dev.tcpscope.TcpScope#abort} is called.
 *
 * <p><b>Branches.</b> Each connection belongs to a branch: the subtask in whose thread
 * {@code scope.connect} or {@code scope.adopt} ran, or the scope itself (its owner thread).
 * Writes count for the branch of the writing thread: a subtask's thread, and the threads of
 * scopes nested in that subtask.
 * <ul>
 *   <li>A subtask that ends {@code FAILED} aborts at once the connections of its branch, and
 *       every connection it wrote to, whichever branch or scope owns it: that peer holds part of
 *       a message from failed work. That alone does not fail the scope: with {@code awaitAll()}
 *       or {@code anySuccessfulResultOrThrow()} the work may go on, and {@code finish()} reports
 *       the connections it was to finish that the failed subtask wrote to.</li>
 *   <li>If the Joiner cancels the scope on a {@code FAILED} subtask (its {@code onComplete}
 *       returned {@code true}, as {@code awaitAllSuccessfulOrThrow()} does), the scope fails.</li>
 *   <li>A subtask cancelled or still unfinished when {@code join()} returned (a loser the Joiner
 *       set aside) has the connections of its branch aborted by {@code finish()} or
 *       {@code close()}: expected, not a failure, not reported. The connections it wrote to are
 *       aborted too, and reported if the scope was to finish them.</li>
 *   <li>The scope is responsible for the connections of its own branch and of the subtasks that
 *       succeeded; those are the ones {@code finish()} ends gracefully.</li>
 * </ul>
 *
 * <p><b>Racing connections.</b> With {@code Joiner.anySuccessfulResultOrThrow()}, fork one subtask
 * per address that returns {@code scope.connect(address)}: the first to connect wins, its
 * connection goes on and ends gracefully on {@code finish()}; losers that were refused fail,
 * losers still connecting or already connected are cancelled and set aside, and their peers see
 * RST without {@code finish()} throwing.
 *
 * <p><b>Ownership.</b> A connection belongs to one scope at a time, until
 * {@link dev.tcpscope.TcpScope#transfer} moves it to another (a pool scope for keep-alive
 * connections, say); a scope's outcome touches only the connections it owns, except that a
 * failed or set-aside subtask aborts whatever it wrote to. A server handler may transfer its
 * connection: the server then leaves it to the new scope, even at shutdown, and the connection
 * keeps its {@code maxConnections} permit until it ends.
 */
package dev.tcpscope;
