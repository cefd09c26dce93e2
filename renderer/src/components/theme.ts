import { useEffect, useState } from 'react';

export type ThemeChoice = 'system' | 'light' | 'dark';
export interface Theme {
  readonly choice: ThemeChoice;
  readonly set: (choice: ThemeChoice) => void;
}

const KEY = 'custos.theme';

/** Light, dark, or the system's; remembered in this window's storage. */
export function useTheme(): Theme {
  const [choice, set] = useState<ThemeChoice>(() => {
    const saved = localStorage.getItem(KEY);
    return saved === 'light' || saved === 'dark' ? saved : 'system';
  });
  useEffect(() => {
    if (choice === 'system') {
      delete document.documentElement.dataset.theme;
      localStorage.removeItem(KEY);
    } else {
      document.documentElement.dataset.theme = choice;
      localStorage.setItem(KEY, choice);
    }
  }, [choice]);
  return { choice, set };
}
