import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import type { Contact } from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { CopyValue } from '../components/CopyValue.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';

function Rename({ c, onDone }: { c: Contact; onDone: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState(c.name);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const rename = useMutation({
    mutationFn: () => api.renameContact({ address: c.address, name }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['contacts'] });
      await queryClient.invalidateQueries({ queryKey: ['grants'] });
      onDone();
    },
  });
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        rename.mutate();
      }}
    >
      <label>
        <span className="visually-hidden">New name for {c.name}</span>
        <input
          data-testid="contact-name"
          value={name}
          required
          maxLength={200}
          ref={input}
          onChange={(e) => setName(e.target.value)}
        />
      </label>{' '}
      <button
        type="submit"
        className="button"
        data-testid="contact-save"
        disabled={!name.trim() || rename.isPending}
      >
        Save
      </button>{' '}
      <button type="button" className="button button-quiet" onClick={onDone}>
        Cancel
      </button>
      <ErrorNote error={rename.error} title="Not renamed" />
    </form>
  );
}

/** Address book: local names for grantees' accounts; every screen shows these names. */
export function AddressBook() {
  const api = useApi();
  const contacts = useQuery({ queryKey: ['contacts'], queryFn: () => api.listContacts({}) });
  const [editing, setEditing] = useState<string | null>(null);
  const list = contacts.data?.contacts ?? [];
  return (
    <section className="screen" aria-labelledby="book-title" data-testid="address-book">
      <h1 id="book-title">Address book</h1>
      <p className="muted">
        Names you give to the accounts you grant access to. They stay in this vault (the network
        only sees addresses) and every screen — grants, audit, notifications — shows them.
      </p>
      <ErrorNote error={contacts.error} />
      {contacts.data && list.length === 0 ? (
        <div className="empty" data-testid="address-book-empty">
          <p className="empty-badge">No one yet</p>
          <p className="empty-lead">
            When you grant access to a dataset, you name the research lab that receives the results;
            the name is kept here.
          </p>
          <p className="muted">Open a dataset, publish it, then use “Grant access…”.</p>
        </div>
      ) : null}
      {list.length > 0 ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Account</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((c) => (
              <tr key={c.address} data-testid="contact-row">
                <td>
                  {editing === c.address ? (
                    <Rename c={c} onDone={() => setEditing(null)} />
                  ) : (
                    c.name
                  )}
                </td>
                <td>
                  <CopyValue value={c.address} label={`${c.name} account`} short={12} />
                </td>
                <td>
                  {editing === c.address ? null : (
                    <button
                      type="button"
                      className="button button-quiet"
                      data-testid="contact-rename"
                      aria-label={`Rename ${c.name}`}
                      onClick={() => setEditing(c.address)}
                    >
                      Rename
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
