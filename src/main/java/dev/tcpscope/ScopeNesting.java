package dev.tcpscope;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;

/**
 * The open {@link TcpScope}s of one owner thread, innermost first, so that closing a scope
 * before the scopes nested in it can abort their connections first: the JDK then closes the
 * nested scopes by waiting for their subtasks, which would wait forever on subtasks blocked on
 * those connections.
 *
 * <p>One record per scope, chained to the record of the scope that was innermost when it opened.
 * A record refers to its scope's {@link ScopeLedger} only weakly: the thread-local chain must not
 * keep a scope that was dropped without {@code close()} reachable for as long as the thread
 * lives, or the Cleaner backstop of its connections would never abort them. Records whose ledger
 * was collected are skipped and fall out of the chain.
 */
final class ScopeNesting {

    private static final ThreadLocal<ScopeNesting> INNERMOST = new ThreadLocal<>();

    private final WeakReference<ScopeLedger> ledger;
    private final ScopeNesting enclosing;
    private boolean closed; // owner thread only

    private ScopeNesting(ScopeLedger ledger, ScopeNesting enclosing) {
        this.ledger = new WeakReference<>(ledger);
        this.enclosing = enclosing;
    }

    /** Records a scope just opened by the calling thread as its innermost. */
    static ScopeNesting enter(ScopeLedger ledger) {
        ScopeNesting record = new ScopeNesting(ledger, open(INNERMOST.get()));
        INNERMOST.set(record);
        return record;
    }

    /** {@return the nearest record from {@code record} outwards that is still open, or null} */
    private static ScopeNesting open(ScopeNesting record) {
        while (record != null && (record.closed || record.ledger.get() == null)) {
            record = record.enclosing;
        }
        return record;
    }

    /**
     * Fails the owner's open scopes nested in this one, innermost first, which aborts their
     * connections and so wakes their subtasks blocked on them.
     *
     * @return whether there were any: closing this scope now is a structure violation
     */
    boolean failNested() {
        List<ScopeLedger> nested = openNestedIn();
        for (ScopeLedger n : nested) {
            n.fail("an enclosing scope was closed first (structure violation)", null);
        }
        return !nested.isEmpty();
    }

    private List<ScopeLedger> openNestedIn() {
        List<ScopeLedger> nested = new ArrayList<>();
        for (ScopeNesting r = INNERMOST.get(); r != null; r = r.enclosing) {
            if (r == this) {
                return nested;
            }
            ScopeLedger l = r.ledger.get();
            if (!r.closed && l != null) {
                nested.add(l);
            }
        }
        return List.of(); // this scope was already left, by an enclosing scope closed before it
    }

    /** Marks this scope closed and removes it, with any scope nested in it, from the owner's chain. */
    void leave() {
        closed = true;
        for (ScopeNesting r = INNERMOST.get(); r != null; r = r.enclosing) {
            if (r == this) {
                ScopeNesting open = open(enclosing);
                if (open == null) {
                    INNERMOST.remove();
                } else {
                    INNERMOST.set(open);
                }
                return;
            }
        }
    }
}
