/**
 * The file a file-based command acts on: the one open in the main area's
 * document widget (read from its model, so unsaved edits count), or the
 * first matching one selected in the file browser (read as stored).
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { IDocumentWidget } from '@jupyterlab/docregistry';
import type { IDefaultFileBrowser } from '@jupyterlab/filebrowser';

import type { IBatchModel, IBatchSettings } from './tokens';
import type { TranslationBundle } from './translation';

/** What a command acting on a file (a script, a pipeline) is given. */
export interface IFileCommandsOptions {
  app: JupyterFrontEnd;
  model: IBatchModel;
  settings: () => IBatchSettings;
  /** The file browser whose selection the context menu item acts on. */
  fileBrowser: IDefaultFileBrowser | null;
  trans: TranslationBundle;
}

/** A file and how to read its text. */
export interface IFileTarget {
  path: string;
  read: () => Promise<string>;
}

/** The file open in a document widget, if `accept` takes its path and text. */
export function editorFile(
  widget: unknown,
  accept: (path: string, text: () => string) => boolean
): IFileTarget | null {
  const context = (widget as Partial<IDocumentWidget> | null)?.context;
  if (!context || !accept(context.localPath, () => context.model.toString())) {
    return null;
  }
  return {
    path: context.localPath,
    read: async () => context.model.toString()
  };
}

/** The first file selected in the file browser whose path `accept` takes. */
export function selectedFile(
  app: JupyterFrontEnd,
  browser: IDefaultFileBrowser | null,
  accept: (path: string) => boolean
): IFileTarget | null {
  if (!browser) {
    return null;
  }
  for (const item of browser.selectedItems()) {
    if (item.type === 'file' && accept(item.path)) {
      const contents = app.serviceManager.contents;
      return {
        path: item.path,
        read: async () => {
          const file = await contents.get(item.path, {
            type: 'file',
            format: 'text',
            content: true
          });
          return String(file.content ?? '');
        }
      };
    }
  }
  return null;
}
