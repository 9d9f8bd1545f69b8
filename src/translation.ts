/**
 * The extension's strings go through JupyterLab's translator, in one gettext
 * domain; without a translator (tests, or a lab without the plugin) they stay
 * as written.
 */
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

export const TRANSLATION_DOMAIN = 'user_batch';

export function loadTrans(translator?: ITranslator | null): TranslationBundle {
  return (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
}

export type { TranslationBundle };
