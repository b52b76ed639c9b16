// SPDX-License-Identifier: Apache-2.0
package org.quarry.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** {@code quarry_english_possessive}: strips a trailing {@code 's} (and {@code '}) from tokens. */
@NamedComponent("quarry_english_possessive")
public class QuarryEnglishPossessiveFilterFactory implements TokenFilterFactory {

    @Override
    public TokenStream create(TokenStream tokenStream) {
        return new EnglishPossessiveFilter(tokenStream);
    }
}
