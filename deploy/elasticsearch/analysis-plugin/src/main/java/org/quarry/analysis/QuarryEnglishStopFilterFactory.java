// SPDX-License-Identifier: Apache-2.0
package org.quarry.analysis;

import org.apache.lucene.analysis.StopFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/**
 * {@code quarry_english_stop}: removes Lucene's default English stop words (case-sensitive, so put
 * it after {@code lowercase}).
 */
@NamedComponent("quarry_english_stop")
public class QuarryEnglishStopFilterFactory implements TokenFilterFactory {

    @Override
    public TokenStream create(TokenStream tokenStream) {
        return new StopFilter(tokenStream, EnglishAnalyzer.ENGLISH_STOP_WORDS_SET);
    }
}
